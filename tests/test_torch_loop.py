"""A training loop written the PyTorch way runs unchanged on zerodl and learns the digits."""
import numpy as np

import zerodl as zd
import zerodl.nn as nn
import zerodl.nn.functional as F
import zerodl.optim as optim
from zerodl.data import DataLoader, TensorDataset, datasets, train_test_split


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding="same")
        self.fc1 = nn.Linear(8 * 4 * 4, 64)
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        x = x.flatten(1)
        return self.fc2(self.drop(F.relu(self.fc1(x))))


def test_pytorch_style_loop_learns_the_digits():
    zd.manual_seed(0)
    images, labels = datasets.digits()
    x = (images / 16.0).astype(np.float32)[:, None]  # (N, 1, 8, 8)
    x_tr, x_te, y_tr, y_te = train_test_split(x, labels, test_size=0.25, seed=0)
    train_loader = DataLoader(TensorDataset(x_tr, y_tr), batch_size=32, shuffle=True, seed=0)
    test_loader = DataLoader(TensorDataset(x_te, y_te), batch_size=256)

    model = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam([{"params": model.conv.parameters(), "lr": 3e-3},
                            {"params": list(model.fc1.parameters()) + list(model.fc2.parameters())}], lr=2e-3)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    losses = []
    for epoch in range(6):
        model.train()
        total = 0.0
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(zd.from_numpy(xb)), zd.from_numpy(yb))
            loss.backward()
            optimizer.step()
            total += loss.item() * xb.shape[0]
        scheduler.step()
        losses.append(total / len(x_tr))

    model.eval()
    correct = 0
    with zd.no_grad():
        for xb, yb in test_loader:
            logits = model(zd.as_tensor(xb))
            correct += int((logits.argmax(dim=1).numpy() == yb).sum())
            assert not logits.requires_grad
    accuracy = correct / len(x_te)
    assert losses[-1] < 0.5 * losses[0]
    print(f"test accuracy {accuracy:.4f}, losses {losses}")
    assert accuracy >= 0.93, f"test accuracy {accuracy:.4f}"
    assert [g["lr"] for g in optimizer.param_groups] == [3e-3 * 0.25, 2e-3 * 0.25]
