"""The engagement engine: campaigns, nurture sequences, job alerts and reminders.

Work flows through two queues. The *dispatch* queue carries audiences to page (a campaign
launched, a job opened for alerts); the dispatcher pages them with Query and puts batches of
recipients on the *mail* queue; the mail worker sends each recipient one email, exactly once
(``crm.data.deliveries``). Due work (sequence steps, reminders) is found once a minute by
``crm.engagement.due`` and joins the mail queue the same way.
"""
