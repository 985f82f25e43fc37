package papercutimport

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Progress phases.
const (
	PhaseReading  = "reading"
	PhasePlanning = "comparing"
	PhaseApplying = "writing"
)

// Progress is how far a run is, for the CLI's bar and the admin page.
type Progress struct {
	Phase       string
	Done, Total int
	Started     time.Time // of the phase; set by the run
}

// Rate is calls (or rows) a second so far.
func (p Progress) Rate(now time.Time) float64 {
	el := now.Sub(p.Started).Seconds()
	if el <= 0 || p.Started.IsZero() {
		return 0
	}
	return float64(p.Done) / el
}

// Left estimates the time to the end of the phase (0 when unknown).
func (p Progress) Left(now time.Time) time.Duration {
	r := p.Rate(now)
	if r <= 0 || p.Total <= p.Done {
		return 0
	}
	return time.Duration(float64(p.Total-p.Done) / r * float64(time.Second)).Round(time.Second)
}

// String is the plain line printed when the output is not a terminal.
func (p Progress) String() string {
	now := time.Now()
	s := fmt.Sprintf("%s: %d", p.Phase, p.Done)
	if p.Total > 0 {
		s += fmt.Sprintf(" of %d", p.Total)
	}
	if r := p.Rate(now); r > 0 {
		s += fmt.Sprintf(", %.0f/s", r)
	}
	if left := p.Left(now); left > 0 {
		s += fmt.Sprintf(", %s left", left)
	}
	return s
}

// Counts are the totals of one kind of object.
type Counts struct {
	Read, Created, Updated, Unchanged, Skipped int
}

// Skip is an object (or a field of one) not imported, and why.
type Skip struct {
	Kind, Name, Reason string
}

// Report is what a run did, or, for a dry run, would do.
type Report struct {
	Source   string
	DryRun   bool
	Users    Counts
	Groups   Counts
	Accounts Counts
	Admins   Counts
	Skips    []Skip
	// Changes lists each created or updated object with what changed.
	Changes []string
	// NoPassword are the internal users created without a password:
	// passwords cannot be read through the API.
	NoPassword []string
	// HiddenPINs are the shared accounts whose PIN the source has but does
	// not show (a Ream source keeps PINs hashed); Ream's PIN is left as it is.
	HiddenPINs []string
	// CannotMove says what the API cannot carry at all.
	CannotMove []string
	Duration   time.Duration
}

func (r *Report) skip(kind, name, format string, args ...any) {
	r.Skips = append(r.Skips, Skip{Kind: kind, Name: name, Reason: fmt.Sprintf(format, args...)})
}

// Write prints the report: what changed, what could not move, and the table.
func (r *Report) Write(w io.Writer, details bool) error {
	var b strings.Builder
	verb := "Imported"
	if r.DryRun {
		verb = "Dry run (nothing was written): would import"
	}
	fmt.Fprintf(&b, "%s from %s\n", verb, r.Source)
	if details && len(r.Changes) > 0 {
		b.WriteString("\nChanges:\n")
		for _, c := range r.Changes {
			fmt.Fprintf(&b, "  %s\n", c)
		}
	}
	if len(r.NoPassword) > 0 {
		fmt.Fprintf(&b, "\n%d internal user(s) have no password in Ream: PaperCut's API cannot read passwords. They cannot log in until they set one:\n"+
			"send them a link with \"Email a set-password link\" (on the user's page, or Groups > Bulk User Actions for a group or a list of users).\n", len(r.NoPassword))
		names := append([]string(nil), r.NoPassword...)
		sort.Strings(names)
		fmt.Fprintf(&b, "  %s\n", listSome(names, details))
	}
	if len(r.HiddenPINs) > 0 {
		fmt.Fprintf(&b, "\n%d shared account(s) have a PIN the source does not show (it keeps PINs hashed): their PINs in Ream are left as they are; set them with the batch account import (column 4) or set-shared-account-property NAME pin VALUE.\n  %s\n",
			len(r.HiddenPINs), listSome(r.HiddenPINs, details))
	}
	if len(r.CannotMove) > 0 {
		b.WriteString("\nNot moved (out of the API's reach or of scope):\n")
		for _, c := range r.CannotMove {
			fmt.Fprintf(&b, "  - %s\n", c)
		}
	}
	if len(r.Skips) > 0 {
		b.WriteString("\nSkipped:\n")
		for i, s := range r.Skips {
			if i == maxShown && !details {
				fmt.Fprintf(&b, "  … and %d more (--details lists them all)\n", len(r.Skips)-i)
				break
			}
			fmt.Fprintf(&b, "  %s %q: %s\n", s.Kind, s.Name, s.Reason)
		}
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tread\tcreated\tupdated\tunchanged\tskipped\t")
	for _, row := range []struct {
		name string
		c    Counts
	}{{"users", r.Users}, {"groups", r.Groups}, {"shared accounts", r.Accounts}, {"admin access", r.Admins}} {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", row.name, row.c.Read, row.c.Created, row.c.Updated, row.c.Unchanged, row.c.Skipped)
	}
	tw.Flush()
	if r.Duration > 0 {
		fmt.Fprintf(&b, "\nin %s\n", r.Duration.Round(10*time.Millisecond))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// maxShown is how many names or lines a report shows without --details.
const maxShown = 50

func listSome(names []string, all bool) string {
	if all || len(names) <= maxShown {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:maxShown], ", ") + fmt.Sprintf(" … and %d more (--details lists them all)", len(names)-maxShown)
}
