package wdsvc

import "strings"

// resourceKey reads a key as sscanf(key, "resources.%[^.].%[^.].%[^.]") does: the type,
// name and third part (each non-empty and up to the next '.'), and whether all three were
// read. A key names a resource when its third part is "state", whatever follows it.
func resourceKey(key string) (typ, name, part string, ok bool) {
	rest, found := strings.CutPrefix(key, "resources.")
	if !found {
		return "", "", "", false
	}
	var parts [3]string
	for i := range parts {
		if i > 0 {
			if rest == "" || rest[0] != '.' {
				return "", "", "", false
			}
			rest = rest[1:]
		}
		n := strings.IndexByte(rest, '.')
		if n < 0 {
			n = len(rest)
		}
		if n == 0 {
			return "", "", "", false
		}
		parts[i], rest = rest[:n], rest[n:]
	}
	return parts[0], parts[1], parts[2], true
}

// resourceOf returns the prefix and name of the resource whose state key is key.
func resourceOf(key string) (prefix, name string, ok bool) {
	typ, name, part, ok := resourceKey(key)
	if !ok || part != "state" {
		return "", "", false
	}
	return "resources." + typ + "." + name + ".", name, true
}
