package money_test

import (
	"testing"

	"seatgraph/internal/money"
)

func TestAmount(t *testing.T) {
	for _, ok := range []string{"0", "12.50", "12.5", "0.000001", "99999999999999.999999", "7"} {
		if got, err := money.Amount(ok); err != nil || got != ok {
			t.Errorf("Amount(%q) = %q, %v; want it accepted unchanged", ok, got, err)
		}
	}
	for _, bad := range []string{"", "-1", "+1", "1e3", "1.", ".5", "1,000", " 1", "1 ", "NaN", "Infinity",
		"0.0000001", "100000000000000", "12.50 USD", "١٢", "0x10"} {
		if _, err := money.Amount(bad); err == nil {
			t.Errorf("Amount(%q) accepted", bad)
		}
	}
}

func TestCurrency(t *testing.T) {
	for _, ok := range []string{"USD", "EUR", "JPY", "GBP", "CHF", "KWD", "BHD"} {
		if got, err := money.Currency(ok); err != nil || got != ok {
			t.Errorf("Currency(%q) = %q, %v", ok, got, err)
		}
	}
	for _, bad := range []string{"", "usd", "Usd", "US", "USDD", "ABC", "QQQ", "€", "US$", "123"} {
		if _, err := money.Currency(bad); err == nil {
			t.Errorf("Currency(%q) accepted", bad)
		}
	}
}
