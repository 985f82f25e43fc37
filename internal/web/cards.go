package web

import (
	"net/http"
	"strings"

	"github.com/reamprint/ream/internal/cards"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
)

// Options > Card/ID numbers (SPEC §5): the generator settings, the lookup
// converters and how guessable generated numbers are.
func init() {
	addFeature(func(s *Server) {
		s.Handle("GET /admin/options/cards", Admin(model.RightOptions), s.cardOptionsPage)
		s.Handle("POST /admin/options/cards", Admin(model.RightOptions), s.cardOptionsSave)
		s.AddNav(NavLink{Section: "Options", Label: "Card/ID numbers", Path: "/admin/options/cards", Order: 40})
	})
}

// cardService returns the card service, or a 404 when it is not set up.
func (s *Server) cardService() (*cards.Service, error) {
	if s.features.Cards == nil {
		return nil, Errorf(http.StatusNotFound, "Card/ID numbers are not available on this server")
	}
	return s.features.Cards, nil
}

type cardOptionsData struct {
	Length, Prefix, Converters string
	Luhn, AutoGenerate         bool
	ConverterNames             string
	Strength                   string
	Example                    string
	Error                      string
}

func (s *Server) cardOptionsData(r *http.Request, svc *cards.Service) cardOptionsData {
	ctx := r.Context()
	d := cardOptionsData{
		Length: s.settings.Get(ctx, settings.CardLength), Prefix: s.settings.Get(ctx, settings.CardPrefix),
		Luhn: s.settings.Bool(ctx, settings.CardLuhn), AutoGenerate: s.settings.Bool(ctx, settings.CardAutoGenerate),
		Converters:     s.settings.Get(ctx, settings.CardConverters),
		ConverterNames: strings.Join(cards.ConverterNames(), ", "),
	}
	if st, err := svc.Strength(ctx); err == nil {
		d.Strength = st.Summary
	}
	if g, err := cards.NewGenerator(svc.GeneratorOptions(ctx)); err == nil {
		d.Example, _ = g.Next()
	}
	return d
}

func (s *Server) cardOptionsPage(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.cardService()
	if err != nil {
		return err
	}
	return s.Render(w, r, http.StatusOK, "cards_options.html", "Options: Card/ID numbers", s.cardOptionsData(r, svc))
}

func (s *Server) cardOptionsSave(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.cardService()
	if err != nil {
		return err
	}
	yn := func(field string) string {
		if r.PostFormValue(field) == "on" {
			return "Y"
		}
		return "N"
	}
	values := map[string]string{
		settings.CardLength:       strings.TrimSpace(r.PostFormValue("length")),
		settings.CardPrefix:       strings.TrimSpace(r.PostFormValue("prefix")),
		settings.CardLuhn:         yn("luhn"),
		settings.CardAutoGenerate: yn("auto_generate"),
		settings.CardConverters:   strings.TrimSpace(r.PostFormValue("converters")),
	}
	if _, err = cards.ParseConverters(values[settings.CardConverters]); err != nil {
		err = core.Errorf(core.Invalid, "Converters: %v", err)
	} else {
		err = s.core.SetConfigValues(r.Context(), s.Actor(r), values)
	}
	if err != nil {
		msg, ok := formError(err)
		if !ok {
			return err
		}
		d := s.cardOptionsData(r, svc)
		d.Length, d.Prefix, d.Converters = values[settings.CardLength], values[settings.CardPrefix], values[settings.CardConverters]
		d.Luhn, d.AutoGenerate, d.Error = values[settings.CardLuhn] == "Y", values[settings.CardAutoGenerate] == "Y", msg
		return s.Render(w, r, http.StatusBadRequest, "cards_options.html", "Options: Card/ID numbers", d)
	}
	return s.Redirect(w, r, "/admin/options/cards", "ok", "Card/ID number options saved.")
}
