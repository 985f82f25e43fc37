package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// AllowedAddress reports whether a caller at ip may use the XML-RPC API
// (auth.webservices.allowed-addresses). An IPv4 address seen as IPv4-mapped
// IPv6 (::ffff:127.0.0.1) matches the IPv4 ranges.
func (c *Config) AllowedAddress(ip netip.Addr) bool {
	return addressIn(c.Auth.WebServices.AllowedAddresses, ip)
}

// MetricsAddress reports whether ip may read /metrics without a token
// (metrics.allowed-addresses).
func (c *Config) MetricsAddress(ip netip.Addr) bool {
	return addressIn(c.Metrics.AllowedAddresses, ip)
}

func addressIn(prefixes []netip.Prefix, ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.WithZone("").Unmap()
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func parsePrefixes(items []string) ([]netip.Prefix, error) {
	prefixes := make([]netip.Prefix, 0, len(items))
	for _, item := range items {
		p, err := parsePrefix(strings.TrimSpace(item))
		if err != nil {
			return nil, err
		}
		prefixes = append(prefixes, p)
	}
	return prefixes, nil
}

// parsePrefix reads an IP address or a CIDR range. IPv4-mapped IPv6 forms
// become plain IPv4, since AllowedAddress unmaps the caller's address too.
func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		ip, err := netip.ParseAddr(s)
		if err != nil || ip.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR range", s)
		}
		ip = ip.Unmap()
		return netip.PrefixFrom(ip, ip.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR range", s)
	}
	if p.Addr().Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("%q mixes IPv4-mapped and plain IPv6 addresses; write the IPv4 range instead", s)
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}
