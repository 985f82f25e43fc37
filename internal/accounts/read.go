package accounts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/reamprint/ream/internal/accounts/source"
	"github.com/reamprint/ream/internal/safepath"
)

// Source kinds, as the account-sync.source setting names them.
const (
	SourceNone      = "none"
	SourceFile      = "file"
	SourceDirectory = "directory"
)

// SourceError is a source that cannot be used: missing, unreadable, empty,
// truncated or outside the allowed roots. The run aborts with nothing
// changed and is recorded as failed with this reason.
type SourceError struct {
	Reason string
	Result *source.Result // what was read, when anything was (for the skipped lines)
}

func (e *SourceError) Error() string { return e.Reason }

func sourceErrorf(format string, args ...any) error {
	return &SourceError{Reason: fmt.Sprintf(format, args...)}
}

// readSource reads the source opts names, confined to roots.
func readSource(ctx context.Context, roots []string, opts *Options) (*source.Result, error) {
	switch opts.Source {
	case SourceFile, SourceDirectory:
	case SourceNone, "":
		return nil, sourceErrorf("no source is chosen; choose a text file or a directory scan")
	default:
		return nil, sourceErrorf("unknown source %q; use %q or %q", opts.Source, SourceFile, SourceDirectory)
	}
	// Resolved right before opening: a link could be swapped in after the
	// location was saved.
	path, err := safepath.Resolve(roots, opts.Location)
	if err != nil {
		return nil, &SourceError{Reason: err.Error()}
	}
	if opts.Source == SourceDirectory {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, sourceErrorf("the directory %q cannot be read: %v", opts.Location, unwrapPath(err))
		}
		if !fi.IsDir() {
			return nil, sourceErrorf("%q is not a directory", opts.Location)
		}
		opts.report(Progress{Phase: PhaseReading})
		res, err := source.ScanDirectory(ctx, path, opts.SubAccounts)
		if err != nil {
			return nil, sourceErrorf("the directory %q cannot be read: %v", opts.Location, err)
		}
		return res, checkResult(res)
	}
	return readImportFile(path, opts.Location, opts.report)
}

// readImportFile parses a text file, refusing one that is missing, empty,
// changes while it is read (an export still being written), or ends in the
// middle of a line that cannot be used (a truncated copy).
func readImportFile(path, shown string, report func(Progress)) (*source.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, sourceErrorf("the file %q cannot be read: %v", shown, unwrapPath(err))
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return nil, sourceErrorf("the file %q cannot be read: %v", shown, unwrapPath(err))
	}
	if before.IsDir() {
		return nil, sourceErrorf("%q is a directory; choose the directory scan source, or give the file's path", shown)
	}
	res, tail, err := parseCounted(f, report)
	if err != nil {
		return nil, err
	}
	after, err := os.Stat(path)
	if err != nil || tail.n != before.Size() || after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		return nil, sourceErrorf("the file %q changed while it was being read (is the export still being written?); nothing was changed — try again when it is complete", shown)
	}
	if err := checkTruncated(res, tail); err != nil {
		return nil, err
	}
	return res, checkResult(res)
}

// ReadImport parses an import file from r (an upload), with the same
// checks as a sync's text file except those that need a file on disk.
func ReadImport(r io.Reader, report func(Progress)) (*source.Result, error) {
	res, tail, err := parseCounted(r, report)
	if err != nil {
		return nil, err
	}
	if err := checkTruncated(res, tail); err != nil {
		return nil, err
	}
	return res, checkResult(res)
}

func parseCounted(r io.Reader, report func(Progress)) (*source.Result, *tailReader, error) {
	tail := &tailReader{r: r}
	res, err := source.ParseImportFile(tail, source.ParseOptions{Pack: true, Progress: func(lines int) {
		if report != nil {
			report(Progress{Phase: PhaseReading, Done: lines})
		}
	}})
	if err != nil {
		return nil, nil, sourceErrorf("the import file could not be read to the end, so nothing was changed: %v", err)
	}
	return res, tail, nil
}

// checkTruncated refuses a file whose last line has no line end and could
// not be used: the sign of a copy cut short. A complete last line without
// a line end is fine (many editors leave it off).
func checkTruncated(res *source.Result, tail *tailReader) error {
	if tail.n == 0 || tail.last == '\n' {
		return nil
	}
	for _, s := range res.Skipped {
		if s.Line == res.LinesRead {
			return &SourceError{Result: res, Reason: fmt.Sprintf("the file ends in the middle of line %d, which cannot be used (%s): it looks truncated, so nothing was changed",
				s.Line, s.Reason)}
		}
	}
	return nil
}

// checkResult refuses a source with no usable account.
func checkResult(res *source.Result) error {
	if res.Empty() {
		return &SourceError{Result: res, Reason: source.ErrEmptySource.Error()}
	}
	if res.Count() == 0 {
		return &SourceError{Result: res, Reason: fmt.Sprintf("none of the %d lines of the source could be used; nothing was changed", len(res.Skipped))}
	}
	return nil
}

// tailReader counts the bytes read and keeps the last one.
type tailReader struct {
	r    io.Reader
	n    int64
	last byte
}

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.n += int64(n)
		t.last = p[n-1]
	}
	return n, err
}

// unwrapPath drops the *fs.PathError wrapper, whose path is the resolved
// one; the message names the location as the administrator wrote it.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
