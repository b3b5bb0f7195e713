"""Conversations and rules, channel-blind: an Incoming in, Replies and domain writes out.

`citizen/`, `officer/` and `admin/` hold what each role does; `casework/` the life of a case,
which all of them share; the modules beside them are the machinery every flow uses (the router,
the step contract, messages, texts, access).
"""
