"""What officers do in chat, one module per job: join, cases, decide, tracks (extension and
personnel measures), review."""
