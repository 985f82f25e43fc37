package source

import (
	"bytes"
	"strings"
	"testing"
)

// samePacked checks that every record of res reads back from a packed copy
// unchanged.
func samePacked(t *testing.T, recs []Record) {
	t.Helper()
	var p Packed
	for i := range recs {
		p.Add(&recs[i])
	}
	if p.Len() != len(recs) {
		t.Fatalf("packed %d of %d records", p.Len(), len(recs))
	}
	var row Row
	for i := range recs {
		r := &recs[i]
		p.Row(i, &row)
		want := Row{Line: r.Line, Parent: r.Parent, Sub: r.Sub, Full: r.FullName()}
		if r.Enabled != nil {
			want.Has |= HasEnabled
			want.Enabled = *r.Enabled
		}
		if r.Restricted != nil {
			want.Has |= HasRestricted
			want.Restricted = *r.Restricted
		}
		want.AllUsers = r.AllUsers != nil && *r.AllUsers
		if r.PIN != nil {
			want.Has |= HasPIN
			want.PIN = *r.PIN
		}
		if r.Balance != nil {
			want.Has |= HasBalance
			want.Balance = *r.Balance
		}
		if r.Users != nil {
			want.Has |= HasUsers
			want.Users = strings.Join(*r.Users, "\n")
		}
		if r.Groups != nil {
			want.Has |= HasGroups
			want.Groups = strings.Join(*r.Groups, "\n")
		}
		if r.InvoiceOption != nil {
			want.Has |= HasInvoice
			want.Invoice = *r.InvoiceOption
		}
		if r.CommentOption != nil {
			want.Has |= HasComment
			want.Comment = *r.CommentOption
		}
		if r.Notes != nil {
			want.Has |= HasNotes
			want.Notes = *r.Notes
		}
		if row != want {
			t.Fatalf("record %d read back as\n%+v, want\n%+v", i, row, want)
		}
	}
}

func TestPackedRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSampleImportFile(&buf, 30_000, 7); err != nil {
		t.Fatal(err)
	}
	buf.WriteString("Big\t\t\t\t-12.5\t\t-\t[All Users]\n" + "Long\t\t\t\t\t\t\t\t\t\t" + strings.Repeat("n", 60_000) + "\n")
	res, err := ParseImportFile(&buf, ParseOptions{})
	if err != nil || len(res.Skipped) > 0 {
		t.Fatal(err, res.Skipped)
	}
	samePacked(t, res.Records)

	// Parsing straight into Packed gives the same.
	packed, err := ParseImportFile(strings.NewReader("A\tB\tY\t7\t1.25\tN\tu|v\tg\tnever_invoice\tno_comment\tnote\n"), ParseOptions{Pack: true})
	if err != nil || packed.Records != nil || packed.Count() != 1 || !packed.Packed.HasAccessLists() {
		t.Fatalf("%v %+v", err, packed)
	}
	var row Row
	packed.Packed.Row(0, &row)
	if row.Full != `A\B` || row.PIN != "7" || row.Users != "u\nv" || row.Invoice != "NEVER_INVOICE" || !row.Enabled || row.Restricted || row.Notes != "note" {
		t.Fatalf("%+v", row)
	}
}

// FuzzPacked packs whatever the parser accepts and reads it back.
func FuzzPacked(f *testing.F) {
	f.Add([]byte("A\tB\tY\t1\t2.5\tN\tu|v\t[All Users]\tNEVER_INVOICE\tNO_COMMENT\tn\nC\t\t\t\t-0.01\t\t-\t-\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseImportFile(bytes.NewReader(data), ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		samePacked(t, res.Records)
	})
}
