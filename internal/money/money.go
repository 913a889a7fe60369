// Package money checks the amounts and currencies seatgraph stores: an
// amount is an exact decimal string (never a float), a currency an ISO
// 4217 code. Arithmetic on amounts is done by PostgreSQL's numeric type,
// which is exact; this package only validates what callers send.
package money

import (
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/text/currency"
)

// Limits of an amount: digits before and after the decimal point. The
// migration's CHECK on licenses.cost_per_seat says the same.
const (
	MaxIntDigits  = 14
	MaxFracDigits = 6
)

var amountRE = regexp.MustCompile(fmt.Sprintf(`^[0-9]{1,%d}(\.[0-9]{1,%d})?$`, MaxIntDigits, MaxFracDigits))

// Amount checks that s is a non-negative decimal such as "12.50" (digits,
// an optional point and up to MaxFracDigits decimals; no sign, exponent,
// spaces or thousands separators) and returns it unchanged.
func Amount(s string) (string, error) {
	if !amountRE.MatchString(s) {
		return "", fmt.Errorf("%q is not a decimal amount such as \"12.50\" (at most %d digits before the point and %d after, not negative)",
			s, MaxIntDigits, MaxFracDigits)
	}
	return s, nil
}

// Currency checks that s is an ISO 4217 alphabetic currency code, upper
// case (such as USD or EUR), and returns it.
func Currency(s string) (string, error) {
	if len(s) != 3 || strings.ToUpper(s) != s {
		return "", fmt.Errorf("%q is not an ISO 4217 currency code (three upper-case letters, such as USD)", s)
	}
	if _, err := currency.ParseISO(s); err != nil {
		return "", fmt.Errorf("%q is not an ISO 4217 currency code", s)
	}
	return s, nil
}

// Money is an exact amount in a currency: the API's Money and MoneyInput.
type Money struct {
	// Amount is a decimal string such as "12.50".
	Amount string
	// Currency is an ISO 4217 code such as "USD".
	Currency string
}

// Check checks both parts, naming the part at fault ("amount" or
// "currency") with its error.
func (m Money) Check() (part string, err error) {
	if _, err := Amount(m.Amount); err != nil {
		return "amount", err
	}
	if _, err := Currency(m.Currency); err != nil {
		return "currency", err
	}
	return "", nil
}

// Of makes a Money of an amount and currency read from the database; nil
// when either is missing (a license with no cost).
func Of(amount, currency *string) *Money {
	if amount == nil || currency == nil {
		return nil
	}
	return &Money{Amount: *amount, Currency: *currency}
}
