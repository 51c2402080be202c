"""End-to-end tests: `crm dev` in a subprocess, over HTTP on loopback."""
