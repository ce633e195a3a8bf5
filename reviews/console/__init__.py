"""The console under /console: pages only. The moderators' desk (`desk`), the merchants' shop
pages (`shop`), signing in and the home page, all routed by `routes`; roles are checked in
`guards` and refusals rendered by `errors`. Accounts and sessions are `reviews.accounts`'."""
