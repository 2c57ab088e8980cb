package app

import "strings"

// trimSpace trims a multi-line text and keeps its line breaks.
func trimSpace(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }
