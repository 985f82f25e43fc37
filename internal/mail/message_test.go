package mail

import (
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	testConfig = SMTPConfig{Host: "127.0.0.1", Port: 25, Security: SecurityNone, From: "Ream <ream@example.org>"}
	testTime   = time.Date(2025, 3, 14, 9, 26, 53, 0, time.FixedZone("CET", 3600))
)

const testID = "<0123abcd.ream@example.org>"

func TestBuildExactOutput(t *testing.T) {
	got, err := Build(testConfig, Message{
		To:      []string{"Alice Adams <alice@example.org>", "bob@example.org"},
		Subject: "Your new card number",
		Body:    "Hello Alice,\nyour card number is 004711.\n",
	}, testTime, testID)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	want := "Date: Fri, 14 Mar 2025 09:26:53 +0100\r\n" +
		"From: \"Ream\" <ream@example.org>\r\n" +
		"To: \"Alice Adams\" <alice@example.org>, <bob@example.org>\r\n" +
		"Subject: Your new card number\r\n" +
		"Message-ID: <0123abcd.ream@example.org>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n" +
		"\r\n" +
		"Hello Alice,\r\n" +
		"your card number is 004711.\r\n"
	if string(got) != want {
		t.Fatalf("Build output:\n%q\nwant:\n%q", got, want)
	}
}

func TestBuildRefusesBadInput(t *testing.T) {
	ok := Message{To: []string{"alice@example.org"}, Subject: "Hi", Body: "x"}
	for _, tc := range []struct {
		name    string
		cfg     SMTPConfig
		msg     Message
		id      string
		wantErr string
	}{
		{"subject with CRLF header", testConfig, Message{To: ok.To, Subject: "Hi\r\nBcc: eve@example.org"}, testID, "subject contains a line break"},
		{"subject with bare LF", testConfig, Message{To: ok.To, Subject: "Hi\nBcc: eve@example.org"}, testID, "subject contains a line break"},
		{"subject with bare CR", testConfig, Message{To: ok.To, Subject: "Hi\rBcc: eve@example.org"}, testID, "subject contains a line break"},
		{"recipient with CRLF", testConfig, Message{To: []string{"alice@example.org\r\nBcc: eve@example.org"}}, testID, "recipient 1 (to) address"},
		{"second recipient bad", testConfig, Message{To: []string{"alice@example.org", "not an address"}}, testID, "recipient 2 (to) address"},
		{"no recipient", testConfig, Message{Subject: "Hi"}, testID, "no recipient"},
		{"non-ASCII address", testConfig, Message{To: []string{"jürgen@example.org"}}, testID, "only plain ASCII addresses"},
		{"sender with LF", SMTPConfig{From: "ream@example.org\nBcc: eve@example.org"}, ok, testID, "sender (from) address"},
		{"sender empty", SMTPConfig{}, ok, testID, "sender (from) address is empty"},
		{"message id with CRLF", testConfig, ok, "<a@b>\r\nBcc: eve@example.org", "message id"},
		{"message id without @", testConfig, ok, "<abc>", "message id"},
		{"message id empty", testConfig, ok, "", "message id"},
		{"subject not UTF-8", testConfig, Message{To: ok.To, Subject: "caf\xe9"}, testID, "subject is not valid UTF-8"},
		{"body not UTF-8", testConfig, Message{To: ok.To, Body: "caf\xe9"}, testID, "body is not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Build(tc.cfg, tc.msg, testTime, tc.id)
			if err == nil {
				t.Fatalf("Build accepted it:\n%s", got)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %q does not mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestBuildSubjectsReadBackExactly(t *testing.T) {
	for _, subject := range []string{
		"",
		"Plain subject",
		"Ihre neue Kartennummer für Jürgen",
		"卡号已生成",
		"emoji 🖨️ printer",
		"=?utf-8?q?looks_encoded?=",
		"  leading and trailing spaces  ",
		"tab\there",
		"two  spaces",
		strings.Repeat("long subject with many words ", 20),
		strings.Repeat("x", 2000),
		strings.Repeat("é", 500),
	} {
		t.Run(subject[:min(len(subject), 20)], func(t *testing.T) {
			data, err := Build(testConfig, Message{To: []string{"alice@example.org"}, Subject: subject}, testTime, testID)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			checkWellFormed(t, data)
			m := readBack(t, data)
			if got := decodedSubject(t, m); got != subject {
				t.Fatalf("subject read back as %q, want %q", got, subject)
			}
		})
	}
}

func TestBuildBodyLineEndsAndEncoding(t *testing.T) {
	body := "first line\r\nsecond line\nthird\rfourth\n.\nA line with = sign and trailing space \nnon-ASCII: Grüße, 卡\n" +
		strings.Repeat("long ", 40) + "\n"
	data, err := Build(testConfig, Message{To: []string{"alice@example.org"}, Subject: "s", Body: body}, testTime, testID)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	checkWellFormed(t, data)
	m := readBack(t, data)
	decoded, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatalf("decode body: %v", err)
	}
	if want := crlf(body); string(decoded) != want {
		t.Fatalf("body read back as %q, want %q", decoded, want)
	}
}

func TestEnvelopeUsesBareAddresses(t *testing.T) {
	from, to, err := Envelope(testConfig, Message{To: []string{"Alice <alice@example.org>", "bob@example.org"}})
	if err != nil {
		t.Fatalf("Envelope: %v", err)
	}
	if from != "ream@example.org" || !slices.Equal(to, []string{"alice@example.org", "bob@example.org"}) {
		t.Fatalf("Envelope = %q, %q", from, to)
	}
}

func TestNewMessageIDIsUniqueAndAccepted(t *testing.T) {
	a, b := NewMessageID("Ream <ream@print.example.org>"), NewMessageID("ream@print.example.org")
	if a == b {
		t.Fatalf("two calls gave %q", a)
	}
	if !strings.HasSuffix(a, "@print.example.org>") {
		t.Fatalf("id %q is not under the sender's domain", a)
	}
	if id := NewMessageID("not an address"); !strings.HasSuffix(id, "@localhost>") {
		t.Fatalf("id for a bad sender = %q", id)
	}
	if _, err := Build(testConfig, Message{To: []string{"alice@example.org"}}, testTime, a); err != nil {
		t.Fatalf("Build refused NewMessageID's id: %v", err)
	}
}

// expectedHeaders are exactly the headers Build writes; anything more was injected.
var expectedHeaders = []string{"Content-Transfer-Encoding", "Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Subject", "To"}

func FuzzBuild(f *testing.F) {
	f.Add("Hello", "body\n", "alice@example.org")
	f.Add("Grüße\r\nBcc: eve@example.org", "x\ry\nz", "Alice <alice@example.org>")
	f.Add("=?utf-8?q?x?=", ".\r\n.\r\n", "\"a, b\" <a@b.example>")
	f.Add(strings.Repeat("word ", 300), strings.Repeat("é", 1000), "bob@example.org\nBcc: eve@example.org")
	f.Fuzz(func(t *testing.T, subject, body, to string) {
		data, err := Build(testConfig, Message{To: []string{to}, Subject: subject, Body: body}, testTime, testID)
		if err != nil {
			return
		}
		checkWellFormed(t, data)
		m := readBack(t, data)
		var keys []string
		for k := range m.Header {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, expectedHeaders) {
			t.Fatalf("headers %q, want exactly %q\n%q", keys, expectedHeaders, data)
		}
		if got := decodedSubject(t, m); got != subject {
			t.Fatalf("subject read back as %q, want %q", got, subject)
		}
		decoded, err := io.ReadAll(quotedprintable.NewReader(m.Body))
		if err != nil {
			t.Fatalf("decode body: %v", err)
		}
		if string(decoded) != bodyText(body) {
			t.Fatalf("body read back as %q, want %q", decoded, bodyText(body))
		}
	})
}

// checkWellFormed asserts every line ends in CRLF, with no bare CR or LF, and
// that header lines are within RFC 5322's limit.
func checkWellFormed(t *testing.T, data []byte) {
	t.Helper()
	if !bytes.HasSuffix(data, []byte("\r\n")) {
		t.Fatalf("message does not end with CRLF: %q", data)
	}
	lines := bytes.Split(data[:len(data)-2], []byte("\r\n"))
	inHeader := true
	for i, line := range lines {
		if bytes.ContainsAny(line, "\r\n") {
			t.Fatalf("line %d has a bare CR or LF: %q", i+1, line)
		}
		if len(line) == 0 {
			inHeader = false
		}
		if inHeader && len(line) > maxHeaderLine {
			t.Fatalf("header line %d is %d bytes long", i+1, len(line))
		}
		if !inHeader && len(line) > 76 {
			t.Fatalf("body line %d is %d bytes long, quoted-printable allows 76", i+1, len(line))
		}
	}
}

func readBack(t *testing.T, data []byte) *netmail.Message {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("net/mail cannot read the message: %v\n%q", err, data)
	}
	return m
}

// decodedSubject reads the Subject header the way a mail program would.
func decodedSubject(t *testing.T, m *netmail.Message) string {
	t.Helper()
	raw := m.Header.Get("Subject")
	got, err := new(mime.WordDecoder).DecodeHeader(raw)
	if err != nil {
		t.Fatalf("decode subject %q: %v", raw, err)
	}
	return got
}
