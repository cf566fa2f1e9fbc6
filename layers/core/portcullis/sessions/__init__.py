"""Sessions (concepts §4): one per sign-in. Creating them with their token set, refresh
rotation with reuse detection, ending them, authenticating an access token into a caller
whose rights come from the stored user, and the session views of the API (`views`: the
paged list and the outcome of ending sessions). It may import `platform/`, `store/`,
`search/` (the list envelope), `tenancy/`, `tokens/`, `messaging/`, `ratelimit/` and
`credentials/`."""
