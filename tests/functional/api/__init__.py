"""The API's behaviour, each request sent to whoever owns its route."""
