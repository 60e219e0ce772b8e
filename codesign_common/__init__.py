"""The bottom layer every codesign package may import: atomic file output, the public data's
location and nothing else (no torch, no TVM, no side effects on import)."""
