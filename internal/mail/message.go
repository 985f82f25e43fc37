package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is one plain-text notification.
type Message struct {
	To []string
	// Subject is one line of UTF-8 text.
	Subject string
	// Body is UTF-8 text; any line ending style is accepted.
	Body string
}

// maxHeaderLine is RFC 5322's hard limit on a line, without its CRLF.
const maxHeaderLine = 998

// foldWidth is the line length RFC 5322 recommends; headers are folded near it.
const foldWidth = 78

// Build renders msg as an RFC 5322 message from cfg.From, with CRLF line ends,
// a quoted-printable UTF-8 body and the given Message-ID, so that a message
// sent again after an uncertain failure is recognisable as the same one.
// It refuses line breaks in the subject and addresses rather than let them
// become extra headers.
func Build(cfg SMTPConfig, msg Message, now time.Time, messageID string) ([]byte, error) {
	from, err := parseAddress("sender (from)", cfg.From)
	if err != nil {
		return nil, err
	}
	to, err := recipients(msg.To)
	if err != nil {
		return nil, err
	}
	id, err := normaliseMessageID(messageID)
	if err != nil {
		return nil, err
	}
	subject, err := encodeSubject(msg.Subject)
	if err != nil {
		return nil, err
	}
	if !utf8.ValidString(msg.Body) {
		return nil, errors.New("mail: body is not valid UTF-8")
	}

	toHeader := make([]string, len(to))
	for i, a := range to {
		toHeader[i] = a.String()
	}

	var b bytes.Buffer
	writeHeader(&b, "Date", now.Format(time.RFC1123Z))
	writeHeader(&b, "From", from.String())
	if err := writeFolded(&b, "To", toHeader, ", "); err != nil {
		return nil, err
	}
	if err := writeFolded(&b, "Subject", strings.Split(subject, " "), " "); err != nil {
		return nil, err
	}
	writeHeader(&b, "Message-ID", id)
	writeHeader(&b, "MIME-Version", "1.0")
	writeHeader(&b, "Content-Type", "text/plain; charset=utf-8")
	writeHeader(&b, "Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")

	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(bodyText(msg.Body))); err != nil {
		return nil, fmt.Errorf("mail: unable to encode the body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("mail: unable to encode the body: %w", err)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}

// Envelope returns the bare addresses for MAIL FROM and RCPT TO that go with
// the message Build makes from the same cfg and msg.
func Envelope(cfg SMTPConfig, msg Message) (from string, to []string, err error) {
	sender, err := parseAddress("sender (from)", cfg.From)
	if err != nil {
		return "", nil, err
	}
	rcpts, err := recipients(msg.To)
	if err != nil {
		return "", nil, err
	}
	to = make([]string, len(rcpts))
	for i, a := range rcpts {
		to[i] = a.Address
	}
	return sender.Address, to, nil
}

// NewMessageID makes a unique Message-ID under the domain of the sender
// address, for the outbox to store with the message before its first attempt.
func NewMessageID(from string) string {
	domain := "localhost"
	if a, err := parseAddress("sender (from)", from); err == nil {
		if at := strings.LastIndexByte(a.Address, '@'); at >= 0 && isDotAtom(a.Address[at+1:]) {
			domain = a.Address[at+1:]
		}
	}
	var r [16]byte
	// crypto/rand.Read never fails on supported platforms.
	_, _ = rand.Read(r[:])
	return "<" + hex.EncodeToString(r[:]) + ".ream@" + domain + ">"
}

func recipients(list []string) ([]*netmail.Address, error) {
	if len(list) == 0 {
		return nil, errors.New("mail: message has no recipient")
	}
	out := make([]*netmail.Address, len(list))
	for i, s := range list {
		a, err := parseAddress(fmt.Sprintf("recipient %d (to)", i+1), s)
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// normaliseMessageID accepts "<left@right>" or "left@right" in the dot-atom
// form of RFC 5322 and returns it with angle brackets.
func normaliseMessageID(id string) (string, error) {
	bare := strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	left, right, ok := strings.Cut(bare, "@")
	if !ok || !isDotAtom(left) || !isDotAtom(right) {
		return "", fmt.Errorf("mail: message id %q is not of the form <left@right>", id)
	}
	return "<" + bare + ">", nil
}

// isDotAtom reports whether s is RFC 5322 dot-atom-text.
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// encodeSubject returns the subject as header text. A short printable ASCII
// subject stays as it is; anything else (non-ASCII, control characters, edge
// spaces, very long words, or text a reader would mistake for an encoded
// word) becomes Q-encoded words, which contain no spaces, so the result can be
// folded at any space and reads back exactly.
func encodeSubject(s string) (string, error) {
	if strings.ContainsAny(s, "\r\n") {
		return "", errors.New("mail: subject contains a line break")
	}
	if !utf8.ValidString(s) {
		return "", errors.New("mail: subject is not valid UTF-8")
	}
	if isPlainSubject(s) {
		return s, nil
	}
	return qEncode(s), nil
}

// isPlainSubject reports whether s can go into the header unencoded.
func isPlainSubject(s string) bool {
	if strings.TrimSpace(s) != s || strings.Contains(s, "=?") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	for _, word := range strings.Split(s, " ") {
		if len(word) > foldWidth-len("Subject: ") {
			return false
		}
	}
	return true
}

// maxEncodedWord is RFC 2047's limit on one encoded word.
const maxEncodedWord = 75

// qEncode writes s as RFC 2047 "Q" encoded words of at most 75 characters,
// separated by spaces, never splitting a character between two words. Unlike
// mime.QEncoding it always encodes, which subjects such as "=?x?=" need.
func qEncode(s string) string {
	const prefix, suffix = "=?utf-8?q?", "?="
	var out, word strings.Builder
	for _, r := range s {
		var enc string
		switch {
		case r == ' ':
			enc = "_"
		case r < utf8.RuneSelf && isQSafe(byte(r)):
			enc = string(r)
		default:
			var buf [utf8.UTFMax]byte
			n := utf8.EncodeRune(buf[:], r)
			var b strings.Builder
			for _, c := range buf[:n] {
				fmt.Fprintf(&b, "=%02X", c)
			}
			enc = b.String()
		}
		if word.Len() > 0 && len(prefix)+word.Len()+len(enc)+len(suffix) > maxEncodedWord {
			if out.Len() > 0 {
				out.WriteByte(' ')
			}
			out.WriteString(prefix + word.String() + suffix)
			word.Reset()
		}
		word.WriteString(enc)
	}
	if out.Len() > 0 {
		out.WriteByte(' ')
	}
	out.WriteString(prefix + word.String() + suffix)
	return out.String()
}

// isQSafe reports the characters RFC 2047 lets stand for themselves in an
// encoded word anywhere in a header.
func isQSafe(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!*+-/", c) >= 0
}

func writeHeader(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(": ")
	b.WriteString(value)
	b.WriteString("\r\n")
}

// writeFolded writes a header whose value is parts joined by sep, breaking the
// line before a part when it would pass foldWidth. Unfolding removes only the
// CRLF, so the value a reader sees is unchanged. A line that still exceeds
// RFC 5322's limit is refused.
func writeFolded(b *bytes.Buffer, name string, parts []string, sep string) error {
	b.WriteString(name)
	b.WriteString(":")
	lineLen := len(name) + 1
	for i, p := range parts {
		lead := " "
		if i > 0 {
			lead = sep
		}
		// Only fold before a part with text, so no continuation line is blank.
		if i > 0 && p != "" && lineLen+len(lead)+len(p) > foldWidth {
			b.WriteString(strings.TrimSuffix(lead, " "))
			b.WriteString("\r\n")
			lineLen = 0
			lead = " "
		}
		b.WriteString(lead)
		b.WriteString(p)
		lineLen += len(lead) + len(p)
		if lineLen > maxHeaderLine {
			return fmt.Errorf("mail: %s header has a word too long for a mail header line", strings.ToLower(name))
		}
	}
	b.WriteString("\r\n")
	return nil
}

// bodyText is the body as sent: CRLF line ends, and a final line end so the
// message ends cleanly before SMTP's terminating dot.
func bodyText(s string) string {
	s = crlf(s)
	if s != "" && !strings.HasSuffix(s, "\r\n") {
		s += "\r\n"
	}
	return s
}

// crlf turns any mix of CRLF, LF and lone CR line ends into CRLF.
func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}
