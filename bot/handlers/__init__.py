"""Channel edges: translate native events to Inbound and Replies to native sends."""
