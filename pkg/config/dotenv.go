package config

import (
	"bytes"
	"encoding/binary"
	"strings"
	"unicode/utf16"
)

// ParseDotenv reads a .env file the way the PHP version read it, so that a
// shop's existing file gives the same values here:
//
//   - one KEY=value per line; blank lines, lines starting with # and lines
//     without = are skipped; the key is trimmed; nothing is an error;
//   - an unquoted value ends where whitespace is followed by # (an inline
//     comment) and is right-trimmed;
//   - a value may be quoted with '…' or "…"; inside double quotes C-style
//     escapes (\n, \t, \", \\, \x41, octal) are decoded;
//   - no variable expansion: a password such as pa$Word stays as written;
//   - a later line for the same key wins.
//
// github.com/joho/godotenv is not used for this: it expands $VAR inside
// values (silently changing passwords that contain $), rejects a whole
// file over one line without =, and cuts an inline comment at the last
// " #" instead of the first. Beyond the PHP behaviour a UTF-8 byte order
// mark, Windows (CRLF) and old Mac (CR) line endings and a UTF-16 file
// (Windows Notepad's «Юникод») are tolerated.
func ParseDotenv(data []byte) map[string]string {
	if u, ok := DecodeUTF16(data); ok {
		data = u
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	out := make(map[string]string)
	// A lone CR (old Mac line endings, some editors) ends a line too:
	// read as part of a value it would hide the keys after it inside
	// that value.
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		key, raw, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key = strings.TrimSpace(key)
		if key == "" {
			continue
		}
		out[key] = parseValue(strings.TrimLeft(raw, " \t\v\f\r"))
	}
	return out
}

// parseValue decodes the text after "=" (left-trimmed) of one line.
func parseValue(raw string) string {
	var b strings.Builder
	var quote byte // the open quote, 0 outside quotes
	quoted, doubleQuoted := false, false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if quote != 0 {
			if quote == '"' && c == '\\' && i+1 < len(raw) {
				// Keep the escape for decoding below; an escaped quote
				// does not close the value.
				b.WriteByte(c)
				b.WriteByte(raw[i+1])
				i++
				continue
			}
			if c == quote {
				quote = 0
				continue
			}
			b.WriteByte(c)
			continue
		}
		if isSpace(c) && strings.HasPrefix(strings.TrimLeft(raw[i+1:], " \t\v\f\r"), "#") {
			break // inline comment
		}
		if (c == '"' || c == '\'') && b.Len() == 0 {
			quote = c
			quoted = true
			doubleQuoted = doubleQuoted || c == '"'
			continue
		}
		if c == '#' && (i == 0 || isSpace(raw[i-1])) {
			break
		}
		b.WriteByte(c)
	}
	v := b.String()
	if !quoted {
		v = strings.TrimRight(v, " \t\v\f\r")
	}
	if doubleQuoted {
		v = unescapeC(v)
	}
	return v
}

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\v', '\f', '\r', '\n':
		return true
	}
	return false
}

// unescapeC decodes C-style escapes: \a \b \f \n \r \t \v, \xHH, \ooo;
// any other escaped character stands for itself, a lone trailing
// backslash is dropped.
func unescapeC(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			break
		}
		switch c = s[i]; c {
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case 'x':
			n, v := 0, 0
			for n < 2 && i+1 < len(s) && isHex(s[i+1]) {
				i++
				v = v*16 + hexVal(s[i])
				n++
			}
			if n == 0 {
				b.WriteByte('x')
			} else {
				b.WriteByte(byte(v))
			}
		default:
			if c >= '0' && c <= '7' {
				v := int(c - '0')
				for n := 1; n < 3 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7'; n++ {
					i++
					v = v*8 + int(s[i]-'0')
				}
				b.WriteByte(byte(v))
			} else {
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	default:
		return int(c-'A') + 10
	}
}

// DecodeUTF16 turns a UTF-16 file — Windows Notepad's «Юникод», with or
// without a byte order mark — into UTF-8. ok is false when data does not
// look like UTF-16 (then it is returned unchanged).
func DecodeUTF16(data []byte) (out []byte, ok bool) {
	var order binary.ByteOrder
	switch {
	case len(data) >= 2 && data[0] == 0xFF && data[1] == 0xFE:
		order, data = binary.LittleEndian, data[2:]
	case len(data) >= 2 && data[0] == 0xFE && data[1] == 0xFF:
		order, data = binary.BigEndian, data[2:]
	case len(data) >= 4 && data[0] != 0 && data[1] == 0 && data[2] != 0 && data[3] == 0:
		order = binary.LittleEndian
	case len(data) >= 4 && data[0] == 0 && data[1] != 0 && data[2] == 0 && data[3] != 0:
		order = binary.BigEndian
	default:
		return data, false
	}
	units := make([]uint16, 0, len(data)/2)
	for i := 0; i+1 < len(data); i += 2 {
		units = append(units, order.Uint16(data[i:]))
	}
	return []byte(string(utf16.Decode(units))), true
}
