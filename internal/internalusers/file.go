// Package internalusers is the batch import of internal users (SPEC §6,
// batchImportInternalUsers): a tab-separated file of users that exist only
// in Ream and log in with a password Ream keeps. One planner and one
// applier serve the admin page, the API and server-command; the whole file
// is applied in one transaction or not at all. The file is read by
// userfile, the parser the batch user import shares.
package internalusers

import (
	"io"

	"github.com/reamprint/ream/internal/userfile"
)

// Line is one user of an import file (see userfile.Line).
type Line = userfile.Line

// LineError is a line of the file that was left out, and why.
type LineError = userfile.LineError

// MaxLineLength bounds a line of the file, in bytes.
const MaxLineLength = userfile.MaxLineLength

// Parse reads an internal user import file (userfile.Internal).
func Parse(r io.Reader) ([]Line, []LineError, error) {
	return userfile.Parse(r, userfile.Internal)
}
