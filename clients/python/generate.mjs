// Placeholder until the Python client lands: generates nothing yet.
