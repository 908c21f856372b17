res = F.one_hot(torch.tensor([0, 2, 1]), 3)  # what the builtin gives, to compare by eye
print(res)
