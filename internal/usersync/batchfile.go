package usersync

import (
	"io"

	"github.com/reamprint/ream/internal/directory"
	"github.com/reamprint/ream/internal/userfile"
)

// BatchLine is one line of a batch user import file (SPEC §4.1; see
// userfile.Line).
type BatchLine = userfile.Line

// MaxBatchLineLength bounds a line of a batch user import file, in bytes.
const MaxBatchLineLength = userfile.MaxLineLength

// ParseBatchUsers reads a batch user import file (userfile.Batch) with the
// parser the internal user import shares. Its skipped lines come as
// directory.LineErrors, the form of every user-sync report.
func ParseBatchUsers(r io.Reader) ([]BatchLine, []directory.LineError, error) {
	lines, bad, err := userfile.Parse(r, userfile.Batch)
	if err != nil {
		return nil, nil, err
	}
	var skipped []directory.LineError
	for _, e := range bad {
		skipped = append(skipped, directory.LineError{Line: e.Line, Field: e.Field, Reason: e.Reason})
	}
	return lines, skipped, nil
}
