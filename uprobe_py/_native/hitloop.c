int up_probe(void) { return 42; }
