package commands_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/commands"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
)

// BenchmarkCardLookupHandler is one lookUpUserNameByCardNo through the
// XML-RPC handler on a real SQLite file, without the network: the
// server's own share of a card lookup, for profiling
// (-cpuprofile). ream-loadgen --compare measures the whole path.
func BenchmarkCardLookupHandler(b *testing.B) {
	r := newRig(b, false)
	ctx := context.Background()
	for i := range 2000 {
		if err := r.env.Core.CreateUser(ctx, core.CLI, &model.User{Username: fmt.Sprintf("lk%05d", i), PrimaryCard: fmt.Sprintf("%08d", 10_000_000+i)}); err != nil {
			b.Fatal(err)
		}
	}
	// The server caches settings for 2 s (internal/server); the rig reads
	// them every time, which would dominate a lookup.
	set := settings.New(r.store, 2*time.Second)
	env := r.env
	env.Settings = set
	c := *env.Core
	c.Settings = set
	env.Core = &c
	h := &commands.XMLRPCHandler{Table: r.table, Env: env, Config: rigConfig(), Log: slog.New(slog.DiscardHandler)}
	body := func(i int) []byte {
		return fmt.Appendf(nil, `<?xml version="1.0"?><methodCall><methodName>api.lookUpUserNameByCardNo</methodName><params><param><value><string>%s</string></value></param><param><value><string>%08d</string></value></param></params></methodCall>`, token, 10_000_000+i%2000)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/rpc/api/xmlrpc", bytes.NewReader(body(i)))
		req.RemoteAddr = "127.0.0.1:5555"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 || !bytes.Contains(rec.Body.Bytes(), fmt.Appendf(nil, ">lk%05d<", i%2000)) {
			out, _ := io.ReadAll(rec.Body)
			b.Fatalf("lookup %d: %d %s", i, rec.Code, out)
		}
		i++
	}
}
