package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrPrivate refuses an address a webhook must not reach (SSRF): loopback,
// private, link-local (cloud metadata), unspecified, multicast, or shared
// (carrier-grade NAT) addresses.
var ErrPrivate = errors.New("resolves to a private, loopback or link-local address; webhooks may reach public addresses only")

var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

func private(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || sharedSpace.Contains(a)
}

// checkHost resolves host and refuses it when any of its addresses is
// private (unless allowed).
func (g Guard) checkHost(ctx context.Context, host string) error {
	if g.AllowPrivate {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("host %q does not resolve", host)
	}
	for _, a := range addrs {
		if private(a) {
			return fmt.Errorf("host %q %w", host, ErrPrivate)
		}
	}
	return nil
}

// Client is the HTTP client deliveries use: the address is checked when
// the connection is made (after DNS, so a name that later resolves to a
// private address is refused too), redirects are not followed, and an
// attempt takes at most timeout.
func (g Guard) Client(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, Control: func(_, address string, _ syscall.RawConn) error {
		if g.AllowPrivate {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil || private(ap.Addr()) {
			return fmt.Errorf("%s %w", address, ErrPrivate)
		}
		return nil
	}}
	tr := &http.Transport{DialContext: dialer.DialContext, Proxy: nil, MaxIdleConnsPerHost: 4,
		IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: timeout, ResponseHeaderTimeout: timeout}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
