"""The sandbox: runs student code in a limited child process and talks to it over a typed channel."""
