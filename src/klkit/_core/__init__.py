"""The core, written once against the array API: inputs, checks and messages, terms and rows."""
