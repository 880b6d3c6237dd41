package main

import "syscall"

// sysProcAttr makes the kernel kill os1 if this command dies first, so an
// aborted benchmark leaves no server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
