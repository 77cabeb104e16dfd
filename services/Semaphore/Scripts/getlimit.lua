return current_limit()
