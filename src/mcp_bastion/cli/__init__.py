"""The ``bastion`` command line: thin Typer commands that call composition roots."""
