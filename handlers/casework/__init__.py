"""The life of a case, shared by citizens, officers and the scheduler: its states and allowed
transitions, the deadlines and routing of the directive, and how a case reads."""
