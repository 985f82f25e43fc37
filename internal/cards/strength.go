package cards

import (
	"fmt"
	"math"
	"math/big"
)

// Strength says how hard generated card numbers are to guess, for the admin
// page: someone typing random numbers at a copier keypad hits some user's
// number with chance HitChance per guess.
type Strength struct {
	PossibleNumbers *big.Int // size of the number space
	Bits            float64  // entropy of one number, log2(PossibleNumbers)
	Users           int      // users holding a number
	HitChance       float64  // chance that one random guess is some user's number, 0..1
	GuessesPerHit   *big.Int // expected guesses per hit (PossibleNumbers/Users, at least 1); nil without users
	Summary         string   // one sentence for people
}

// Guessability measures the number space of opts against users numbers in
// use. Invalid options give a Strength whose Summary names the problem.
func Guessability(opts GeneratorOptions, users int) Strength {
	users = max(users, 0)
	if err := opts.Validate(); err != nil {
		return Strength{Users: users, PossibleNumbers: new(big.Int), Summary: "No card numbers can be generated: " + err.Error()}
	}
	space := opts.possibleNumbers()
	s := Strength{
		PossibleNumbers: space,
		Bits:            math.Log2(9) + float64(opts.randomDigits()-1)*math.Log2(10),
		Users:           users,
	}
	if users == 0 {
		s.Summary = fmt.Sprintf("No user has a number yet (%s possible numbers, %.1f bits)", groupDigits(space), s.Bits)
		return s
	}
	u := big.NewInt(int64(users))
	spaceF, _ := new(big.Float).SetInt(space).Float64()
	s.HitChance = min(float64(users)/spaceF, 1)
	// Rounded to the nearest whole guess, never below one.
	half := new(big.Int).Rsh(u, 1)
	s.GuessesPerHit = new(big.Int).Quo(new(big.Int).Add(space, half), u)
	if s.GuessesPerHit.Sign() == 0 {
		s.GuessesPerHit.SetInt64(1)
	}
	noun := "users"
	if users == 1 {
		noun = "user"
	}
	lead := fmt.Sprintf("1 in %s guesses finds a user", groupDigits(s.GuessesPerHit))
	if s.GuessesPerHit.Cmp(big.NewInt(1)) == 0 {
		lead = "Every guess finds a user"
	}
	s.Summary = fmt.Sprintf("%s (%s %s, %s possible numbers)", lead, groupDigits(u), noun, groupDigits(space))
	return s
}

// String returns the summary sentence.
func (s Strength) String() string { return s.Summary }

// groupDigits writes a non-negative integer with thousands separators.
func groupDigits(n *big.Int) string {
	d := n.String()
	if len(d) <= 3 {
		return d
	}
	out := make([]byte, 0, len(d)+len(d)/3)
	for i := 0; i < len(d); i++ {
		if i > 0 && (len(d)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, d[i])
	}
	return string(out)
}
