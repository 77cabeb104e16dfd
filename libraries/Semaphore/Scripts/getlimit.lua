return current_limit() or -1
