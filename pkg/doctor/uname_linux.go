package doctor

import "syscall"

// uname returns the kernel release and machine (uname -r, uname -m).
func uname() (release, machine string) {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "", ""
	}
	return utsString(u.Release[:]), utsString(u.Machine[:])
}

// utsString converts a NUL-terminated utsname field; its element type is
// int8 on some architectures and uint8 on others.
func utsString[T int8 | uint8](f []T) string {
	b := make([]byte, 0, len(f))
	for _, c := range f {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}
