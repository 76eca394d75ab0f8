"""The floor of resolution-qa: settings, domain errors, model files; imports no other layer."""
