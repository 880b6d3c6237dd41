//go:build !linux

package main

import (
	"errors"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

func procSample(int) (float64, int64, int, error) {
	return 0, 0, 0, errors.New("process figures are read from /proc (Linux only)")
}

func procTreeCPU(int) (float64, error) {
	return 0, errors.New("process figures are read from /proc (Linux only)")
}
