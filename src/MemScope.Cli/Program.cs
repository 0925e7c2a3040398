// Placeholder entry point; the command tree lands with the foundation commit.
return 0;
