package usersync

import (
	"crypto/x509"
	"errors"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/reamprint/ream/internal/directory"
	"github.com/reamprint/ream/internal/settings"
)

// directoryHint is one sentence, after a failed read, that names the
// setting to fix, for the failures an administrator meets first; "" when
// there is nothing more to say than the error.
func directoryHint(err error) string {
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials):
		return ". Check " + settings.UserSyncLDAPBindDN + " and " + settings.UserSyncLDAPBindPW + ": the directory refused them."
	case errors.As(err, &unknownCA):
		return ". The directory's certificate is not signed by a trusted CA: set " + settings.UserSyncLDAPCACert + " to the PEM file of the CA that signed it."
	case errors.As(err, &hostname):
		return ". The directory's certificate is not for this host name: use the name the certificate is for in " + settings.UserSyncLDAPURL + "."
	case errors.As(err, &invalid):
		return ". The directory's certificate is not valid (expired, or not for a server): renew it, or check " + settings.UserSyncLDAPCACert + "."
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return ". A base DN does not exist in the directory: check " + settings.UserSyncLDAPBaseDN + " and " + settings.UserSyncLDAPGroupDN + "."
	case ldap.IsErrorWithCode(err, ldap.LDAPResultConfidentialityRequired) || ldap.IsErrorWithCode(err, ldap.LDAPResultStrongAuthRequired):
		return ". The directory wants an encrypted connection for this bind: use an ldaps:// " + settings.UserSyncLDAPURL + " or turn on " + settings.UserSyncLDAPStartTLS + "."
	case errors.Is(err, directory.ErrUnavailable) && strings.Contains(err.Error(), "connect"):
		return ". No directory server could be reached: check " + settings.UserSyncLDAPURL + " (host and port) and the network."
	}
	return ""
}
