"""Palm entry: enrolling a palm on a card, identifying it 1:N at the gate, keeping the index current.

``enrollment`` (enroll once platform-wide, delete for good), ``identification`` (1:N match
confirmed by the store), ``sync`` (each process's index following the change log), ``service``
(the three behind one object), ``gate`` (the ``PALM`` channel handler). The ports are in
``services/ports/palm.py``.
"""
