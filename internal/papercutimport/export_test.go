package papercutimport

// UserProps and AccountProps are the properties a run reads, for the
// benchmark's plain calls.
func UserProps() []string    { return userProps }
func AccountProps() []string { return accountProps }
