package auth

import (
	"errors"
	"strings"
	"testing"

	"go.mau.fi/util/confusable"
)

func TestCheckUsernameLooks(t *testing.T) {
	refused := []struct {
		name string
		rule PolicyRule
	}{
		{"admin", RuleReserved},
		{"\u0430dmin", RuleReserved}, // Cyrillic а: its skeleton is admin's
		{"adrnin", RuleReserved},     // rn looks like m
		{"\u0430dmin1", RuleMixedScript},
		{"p\u0430ypal", RuleMixedScript},    // Latin with a Cyrillic а
		{"\u0391lice", RuleMixedScript},     // Greek Alpha
		{"ab\u03b1\u0431", RuleMixedScript}, // three scripts
		{"e\u0301\u0301\u0301\u0301", RuleCombining},
		{"zalgo\u0300\u0301\u0302\u0303\u0304", RuleCombining},
	}
	for _, tc := range refused {
		err := CheckUsernameLooks(tc.name)
		var pe *PolicyError
		if !errors.As(err, &pe) || pe.Rule != tc.rule {
			t.Errorf("CheckUsernameLooks(%q) = %v, want rule %s", tc.name, err, tc.rule)
		}
	}
	accepted := []string{"alice", "josé", "jose\u0301", "zoë", "françois", "ngô.bảo.châu", "ệ", "иван", "άλφα",
		"山田太郎", "やまだ", "tanaka太郎", "김철수", "admin2", "administrator", "j.smith-1", "o'brien", "สมชาย"}
	for _, name := range accepted {
		if err := CheckUsernameLooks(name); err != nil {
			t.Errorf("CheckUsernameLooks(%q) = %v, want accepted", name, err)
		}
	}
}

func TestUsernameSkeleton(t *testing.T) {
	same := [][2]string{{"admin", "\u0430dmin"}, {"user1", "userl"}, {"paypal", "𝔭𝒶ỿ𝕡𝕒ℓ"}, {"rnary", "mary"}}
	for _, p := range same {
		if a, b := UsernameSkeleton(p[0]), UsernameSkeleton(p[1]); a != b {
			t.Errorf("skeletons of %q and %q differ: %q, %q", p[0], p[1], a, b)
		}
	}
	if UsernameSkeleton("alice") == UsernameSkeleton("alicia") {
		t.Error("alice and alicia share a skeleton")
	}
	// The ASCII fast path agrees with the general one.
	for c := 0; c < 128; c++ {
		s := "x" + string(rune(c)) + "y"
		if got, want := UsernameSkeleton(s), confusable.Skeleton(s); got != want {
			t.Errorf("fast skeleton of %q = %q, want %q", s, got, want)
		}
	}
	err := CheckNotConfusable("userl", "user1")
	if err == nil || !strings.Contains(err.Error(), `"user1"`) {
		t.Errorf("CheckNotConfusable = %v, want a refusal naming user1", err)
	}
	if CheckNotConfusable("bob", "bob") != nil || CheckNotConfusable("bob", "") != nil {
		t.Error("a name is not confusable with itself or with nobody")
	}
}

func FuzzCheckUsernameLooks(f *testing.F) {
	for _, s := range []string{"admin", "аdmin", "josé", "e\u0301\u0301\u0301\u0301", "山田"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sk := UsernameSkeleton(s)
		if sk != UsernameSkeleton(s) {
			t.Fatalf("skeleton of %q is not stable", s)
		}
		if CheckUsernameLooks(s) == nil && sk == adminSkeleton {
			t.Fatalf("%q looks like admin but was accepted", s)
		}
	})
}
