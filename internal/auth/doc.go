// Package auth holds the building blocks of authentication that the web layer, the
// API and the CLI share: the password and username rules of SPEC §6, argon2id hashing
// of passwords and PINs, the rate limiters for login, PIN and card lookups, session
// tokens and CSRF tokens (SPEC §10). It touches neither the database nor HTTP.
package auth
