package festival

// WarmPID is the process id of f's warm engine; 0 when none is running.
func WarmPID(f *Festival) int {
	if f.warm == nil {
		return 0
	}
	return f.warm.r.PID()
}

var SchemeString = schemeString
