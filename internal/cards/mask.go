package cards

import "strings"

// Mask hides a card/ID number for the audit log: every character but the
// last 4 becomes "*", and never more than half of the number shows, so a
// short number is not written out whole. "" is "(none)".
func Mask(number string) string {
	if number == "" {
		return "(none)"
	}
	r := []rune(number)
	shown := min(4, len(r)/2)
	return strings.Repeat("*", len(r)-shown) + string(r[len(r)-shown:])
}
