"""The people's side: the agent desktop, the wallboard and the metrics, served by
twisted.web on the asyncio reactor in a process of its own (`hotline web`).

It holds no call state: everything it shows is read from Redis, every change it makes
goes through the same store moves the engines use, and the engines' scripts append what
changed to the floor's stream (`routing.keys.RoutingKeys.floor`), which it follows to
push updates to open pages. Killing it loses nothing.

The decisions (who may do what, what a page shows) are plain functions here; the I/O is
at the edges: `server` (HTTP), `live` (the stream), the stores.
"""
