"""Every write: check access, write the row and its Event, publish after commit. One module a subject.

Callers (consumers, views, tracker endpoints, admin) pass what the person sent; these functions
own validation and access. Each returns the Event that was stored (or the original one, when a
device repeats a client id) and raises a ServiceError subclass when nothing was stored. Importing
this package registers every frame type a socket accepts (coordination.inbound), and it exports
what each subject module lists in its __all__.
"""

from coordination.services.accounts import *
from coordination.services.activities import *
from coordination.services.alerts import *
from coordination.services.audit import *
from coordination.services.chat import *
from coordination.services.common import *
from coordination.services.devices import *
from coordination.services.dialogue import *
from coordination.services.est import *
from coordination.services.lagesbild import *
from coordination.services.notes import *
from coordination.services.periodic import *
from coordination.services.positions import *
from coordination.services.shifts import *
