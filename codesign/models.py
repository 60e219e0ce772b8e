"""`python -m codesign.models`: list the registered network names (``codesign.sr.models``)."""
from codesign.sr.models import list_models

if __name__ == "__main__":
    print("\n".join(list_models()))
