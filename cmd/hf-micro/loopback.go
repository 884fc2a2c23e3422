package main

import "net"

// loopbackAddr is where a client on this machine reaches a server listening on addr: a wildcard host
// (":8080", "0.0.0.0:8080", "[::]:8080") becomes 127.0.0.1, an address rather than a name, as a container may
// have no /etc/hosts to look "localhost" up in.
func loopbackAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
