"""The dispatcher: pages an audience onto the mail queue, resumably."""
