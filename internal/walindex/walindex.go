// Package walindex tells, without taking a lock, whether an SQLite database
// in WAL mode has changed: it reads the wal-index header at the start of
// the database's -shm file, the way SQLite's own readers do
// (walIndexTryHdr), and hands back its 48 bytes to compare.
//
// Why it is hand-written: a card lookup is one indexed read, and each read
// transaction costs SQLite two fcntl calls on the WAL's shared-memory locks
// besides the query; that read was 80 % of the XML-RPC card lookup
// (BenchmarkCardLookupHandler, 18–21 µs a call on the 2-core machine). No
// SQLite API tells "unchanged" without opening a read transaction. The
// store's card cache (internal/store/cardcache.go) answers from memory
// while this header is unchanged: the check is 29–44 ns from a read-only
// mapping (BenchmarkHeader; 1.5–1.8 µs as a pread of the same bytes), and
// the cached lookup takes 7.3–8.8 µs through the whole handler.
//
// The header (https://www.sqlite.org/walformat.html, "The WAL-Index
// Header") is two copies of the same 48 bytes in native byte order: a
// writer writes copy 2, then copy 1, so a reader reads copy 1, then copy
// 2, and trusts them only when they agree, are initialised and carry a
// valid checksum. iChange grows with every committed write transaction,
// mxFrame with every commit, and a checkpoint that restarts the WAL
// changes the salts: any change another connection makes, in any process,
// changes the header before it is visible to a reader.
package walindex

import "encoding/binary"

// HeaderSize is the size of one copy of the wal-index header.
const HeaderSize = 48

// Header is one wal-index header, compared as a whole.
type Header [HeaderSize]byte

// Change is the header's change counter (iChange), for logs and tests.
func (h Header) Change() uint32 { return binary.NativeEndian.Uint32(h[8:]) }

// Parse checks the two copies of the header at the start of b and returns
// the first when they are usable.
func Parse(b []byte) (h Header, ok bool) {
	if len(b) < 2*HeaderSize {
		return Header{}, false
	}
	copy(h[:], b[:HeaderSize])
	if Header(b[HeaderSize:2*HeaderSize]) != h {
		return Header{}, false // torn: a writer is updating it
	}
	if h[12] == 0 { // isInit
		return Header{}, false
	}
	s1, s2 := checksum(h[:40])
	if s1 != binary.NativeEndian.Uint32(h[40:]) || s2 != binary.NativeEndian.Uint32(h[44:]) {
		return Header{}, false
	}
	return h, true
}

// checksum is the WAL checksum over b (a multiple of 8 bytes) in native
// byte order, as the wal-index header carries it.
func checksum(b []byte) (s1, s2 uint32) {
	for i := 0; i+8 <= len(b); i += 8 {
		s1 += binary.NativeEndian.Uint32(b[i:]) + s2
		s2 += binary.NativeEndian.Uint32(b[i+4:]) + s1
	}
	return s1, s2
}
