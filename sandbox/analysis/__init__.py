"""Pure functions on arrays. No torch modules, no Panel."""
