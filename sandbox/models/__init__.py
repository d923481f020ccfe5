"""Small nn.Modules only; none of them knows about training loops or views."""
